-- title: Bucket replication set up to another account
-- severity: high
-- id: trailsql.attack.s3-replication-to-outside
-- tags: attack.exfiltration, attack.t1537
-- references: MITRE ATT&CK T1537 (Transfer Data to Cloud Account)
-- description: PutBucketReplication on s3.amazonaws.com: every new object of the
--   bucket copied to a destination bucket from now on. Listed when a rule
--   names a destination account other than this one or names none (a
--   destination bucket's ARN does not say whose it is), unless the account
--   is in `allow_accounts`. destination lists the destination buckets and
--   destination_account their accounts. Denied attempts are listed too.
--   Commonly caused by accident: disaster-recovery copies to the
--   organization's backup account (list it in allow_accounts).
-- param: allow_accounts = | accounts (ids or patterns, comma-separated) trusted to be let in
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    json_extract_scalar(requestparameters, '$.bucketName') AS target,
    error_code,
    sigma_text(requestparameters, 'ReplicationConfiguration.Rule.Destination.Bucket') AS destination,
    sigma_text(requestparameters, 'ReplicationConfiguration.Rule.Destination.Account') AS destination_account,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 's3.amazonaws.com'
    AND eventname IN ('PutBucketReplication')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE destination_account IS NULL OR (destination_account <> account AND NOT allowlisted(destination_account, $allow_accounts))
ORDER BY eventtime, account, region, actor, event_id
