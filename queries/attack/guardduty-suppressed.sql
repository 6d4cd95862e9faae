-- title: GuardDuty findings suppressed or addresses trusted
-- severity: high
-- id: trailsql.attack.guardduty-suppressed
-- tags: attack.defense-evasion, attack.t1562.001
-- references: MITRE ATT&CK T1562.001 (Impair Defenses: Disable or Modify Tools)
-- description: GuardDuty told to look away without being turned off: a filter that
--   archives findings as they arrive (CreateFilter or UpdateFilter with
--   action ARCHIVE, a suppression rule), or a trusted IP list created or
--   changed (CreateIPSet, UpdateIPSet: GuardDuty raises no finding for
--   those addresses). change says which. Denied attempts are listed too.
--   Commonly caused by accident: suppression rules for known noise such as
--   vulnerability scanners (their criteria are in the request).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(json_extract_scalar(requestparameters, '$.name'), json_extract_scalar(requestparameters, '$.filterName'), json_extract_scalar(requestparameters, '$.ipSetId')) AS target,
    error_code,
    CASE WHEN eventname IN ('CreateIPSet', 'UpdateIPSet') THEN 'trusted IP list' WHEN json_extract_scalar(requestparameters, '$.action') = 'ARCHIVE' THEN 'findings archived by a filter' END AS change,
    json_extract_scalar(requestparameters, '$.location') AS location,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'guardduty.amazonaws.com'
    AND eventname IN ('CreateFilter', 'UpdateFilter', 'CreateIPSet', 'UpdateIPSet')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE change IS NOT NULL
ORDER BY eventtime, account, region, actor, event_id
