-- title: Roles assumed from accounts not on the list
-- severity: medium
-- id: trailsql.attack.cross-account-role-use
-- tags: attack.initial-access, attack.lateral-movement, attack.t1078.004, attack.t1550.001
-- references: MITRE ATT&CK T1078.004 (Valid Accounts: Cloud Accounts), T1550.001 (Use Alternate Authentication Material: Application Access Token)
-- description: AssumeRole calls that came from a principal of another account (its
--   account differs from the account the role is in) not in
--   `allow_accounts`: someone outside reaching in through a role that
--   trusts them, the path a backdoored trust policy opens. from_account is
--   the caller's account, target the role. AWS services assuming roles are
--   left out. Denied attempts are listed too. Commonly caused by accident:
--   every legitimate cross-account access (the organization's CI, security
--   and partner accounts): list them in allow_accounts, and the rest
--   stands out.
-- param: allow_accounts = | accounts (ids or patterns, comma-separated) trusted to be let in
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.roleArn') AS target,
  error_code,
  useridentity.accountid AS from_account,
  json_extract_scalar(requestparameters, '$.roleSessionName') AS session_name,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'sts.amazonaws.com'
  AND eventname = 'AssumeRole'
  AND useridentity.accountid IS NOT NULL
  AND useridentity.accountid <> account
  AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
  AND NOT allowlisted(useridentity.accountid, $allow_accounts)
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
