-- title: CloudTrail tampering
-- severity: high
-- id: trailsql.forensics.trail-tampering
-- tags: attack.defense-evasion, attack.t1562.008
-- references: MITRE ATT&CK T1562.008 (Disable or Modify Cloud Logs); Sigma "AWS CloudTrail Important Change"; Panther AWS.CloudTrail.Stopped, AWS.CloudTrail.EventSelectorsDisabled; Stratus aws.defense-evasion.cloudtrail-stop, cloudtrail-delete, cloudtrail-event-selectors
-- description: Calls that stop or narrow what a trail records: StopLogging,
--   DeleteTrail, UpdateTrail and PutEventSelectors on
--   cloudtrail.amazonaws.com. requested says what the call asked for, where
--   the request shows it: stop logging, delete the trail, turn off global
--   service events, multi-region logging or log file validation, deliver to
--   another bucket or KMS key, exclude management events in the selectors.
--   Denied attempts are listed too (error_code shows it; an attacker's failed
--   try is worth knowing).
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.name'),
    json_extract_scalar(requestparameters, '$.trailName')) AS target,
  error_code,
  CASE eventname
    WHEN 'StopLogging' THEN 'stop logging'
    WHEN 'DeleteTrail' THEN 'delete the trail'
    WHEN 'UpdateTrail' THEN coalesce(nullif(concat_ws('; ',
      CASE WHEN json_extract_scalar(requestparameters, '$.includeGlobalServiceEvents') = 'false' THEN 'turn off global service events' END,
      CASE WHEN json_extract_scalar(requestparameters, '$.isMultiRegionTrail') = 'false' THEN 'make it single-region' END,
      CASE WHEN json_extract_scalar(requestparameters, '$.enableLogFileValidation') = 'false' THEN 'turn off log file validation' END,
      CASE WHEN json_extract_scalar(requestparameters, '$.s3BucketName') IS NOT NULL
        THEN concat('deliver to bucket ', json_extract_scalar(requestparameters, '$.s3BucketName')) END,
      CASE WHEN json_extract_scalar(requestparameters, '$.kmsKeyId') IS NOT NULL
        THEN concat('encrypt with KMS key ', json_extract_scalar(requestparameters, '$.kmsKeyId')) END), ''),
      'change trail settings')
    WHEN 'PutEventSelectors' THEN
      CASE WHEN requestparameters LIKE '%"includeManagementEvents":false%'
        OR requestparameters LIKE '%"readWriteType":"ReadOnly"%'
        THEN 'exclude or limit management events' ELSE 'change event selectors' END
  END AS requested,
  user_agent,
  access_key_id,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'cloudtrail.amazonaws.com'
  AND eventname IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors')
ORDER BY eventtime, account, region, event_name, event_id
