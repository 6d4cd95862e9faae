-- title: Bucket policies that let in everyone or another account
-- severity: high
-- id: trailsql.attack.s3-bucket-policy-opened
-- tags: attack.exfiltration, attack.t1537, attack.collection, attack.t1530
-- references: MITRE ATT&CK T1537 (Transfer Data to Cloud Account), T1530 (Data from Cloud Storage); Stratus aws.exfiltration.s3-backdoor-bucket-policy
-- description: PutBucketPolicy on s3.amazonaws.com whose policy allows a principal
--   outside this account: everyone ("*") or another account, listed in
--   outsiders (a statement with a condition, such as aws:PrincipalOrgID or
--   a VPC endpoint, is marked conditional). Deny statements and AWS
--   service principals are not counted. Accounts in `allow_accounts` are
--   not outsiders. Denied attempts are listed too. Commonly caused by
--   accident: buckets shared with the organization's own accounts (list
--   them in allow_accounts) and public website buckets.
-- param: allow_accounts = | accounts (ids or patterns, comma-separated) trusted to be let in
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    json_extract_scalar(requestparameters, '$.bucketName') AS target,
    error_code,
    policy_outsiders(json_extract(requestparameters, '$.bucketPolicy'), account, $allow_accounts) AS outsiders,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 's3.amazonaws.com'
    AND eventname IN ('PutBucketPolicy')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE outsiders IS NOT NULL
ORDER BY eventtime, account, region, actor, event_id
