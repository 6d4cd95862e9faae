-- title: Another user's console password changed
-- severity: high
-- id: trailsql.attack.login-profile-changed
-- tags: attack.privilege-escalation, attack.t1098
-- references: MITRE ATT&CK T1098 (Account Manipulation); Stratus aws.privilege-escalation.iam-update-user-login-profile
-- description: UpdateLoginProfile on iam.amazonaws.com for a user other
--   than the caller: whoever did it can now sign in to the console as that
--   user. A user changing their own password (the console's "change
--   password" makes ChangePassword, not this) is left out. Commonly caused
--   by accident: an administrator resetting a colleague's password.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.userName') AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.passwordResetRequired') AS password_reset_required,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'iam.amazonaws.com'
  AND eventname = 'UpdateLoginProfile'
  AND json_extract_scalar(requestparameters, '$.userName') IS DISTINCT FROM useridentity.username
ORDER BY eventtime, account, region, actor, event_id
