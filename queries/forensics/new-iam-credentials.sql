-- title: New IAM users, console passwords and access keys
-- severity: medium
-- id: trailsql.forensics.new-iam-credentials
-- tags: attack.persistence, attack.t1098.001
-- references: MITRE ATT&CK T1136.003 (Create Cloud Account), T1098.001 (Additional Cloud Credentials); Stratus aws.persistence.iam-create-admin-user, aws.persistence.iam-backdoor-user; Panther AWS.IAM.BackdoorUserKeys
-- description: IAM users created (CreateUser), console passwords given to a
--   user (CreateLoginProfile) and access keys created (CreateAccessKey), with
--   the user they are for. for_other_user is true when the caller is not that
--   user: an administrator at work, or someone planting a back door. A
--   CreateAccessKey without a userName is for the caller itself. The new
--   key id is in new_access_key_id. Denied
--   attempts are listed too.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.userName'),
    json_extract_scalar(responseelements, '$.accessKey.userName'),
    useridentity.username) AS target,
  error_code,
  json_extract_scalar(responseelements, '$.accessKey.accessKeyId') AS new_access_key_id,
  json_extract_scalar(requestparameters, '$.passwordResetRequired') AS password_reset_required,
  CASE
    WHEN json_extract_scalar(requestparameters, '$.userName') IS NULL THEN false
    ELSE (json_extract_scalar(requestparameters, '$.userName') IS DISTINCT FROM useridentity.username)
  END AS for_other_user,
  user_agent,
  access_key_id,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'iam.amazonaws.com'
  AND eventname IN ('CreateUser', 'CreateLoginProfile', 'CreateAccessKey')
ORDER BY eventtime, account, region, event_name, event_id
