-- title: SES identities verified and sending switched on
-- severity: medium
-- id: trailsql.attack.ses-sending-set-up
-- tags: attack.impact, attack.t1496.004, attack.resource-development, attack.t1585.002
-- references: MITRE ATT&CK T1496.004 (Resource Hijacking: Cloud Service Hijacking), T1585.002 (Establish Accounts: Email Accounts)
-- description: On ses.amazonaws.com: addresses and domains verified to send from
--   (VerifyEmailIdentity, VerifyDomainIdentity, CreateEmailIdentity),
--   sending switched back on (UpdateAccountSendingEnabled with enabled
--   true), and production access asked for (PutAccountDetails): an
--   account's mail reputation used for phishing or spam. Denied attempts
--   are listed too. Commonly caused by accident: setting up an
--   application's mail (once per identity).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(json_extract_scalar(requestparameters, '$.emailAddress'), json_extract_scalar(requestparameters, '$.domain'), json_extract_scalar(requestparameters, '$.emailIdentity'), json_extract_scalar(requestparameters, '$.websiteURL')) AS target,
    error_code,
    json_extract_scalar(requestparameters, '$.enabled') AS enabled,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'ses.amazonaws.com'
    AND eventname IN ('VerifyEmailIdentity', 'VerifyDomainIdentity', 'CreateEmailIdentity', 'UpdateAccountSendingEnabled', 'PutAccountDetails')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE event_name <> 'UpdateAccountSendingEnabled' OR enabled = 'true'
ORDER BY eventtime, account, region, actor, event_id
