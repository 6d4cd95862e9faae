-- title: An instance given another IAM role
-- severity: medium
-- id: trailsql.attack.instance-profile-changed
-- tags: attack.privilege-escalation, attack.t1098.003
-- references: MITRE ATT&CK T1098.003 (Account Manipulation: Additional Cloud Roles); Rhino Security Labs IAM privilege escalation (PassRole to EC2)
-- description: AssociateIamInstanceProfile and ReplaceIamInstanceProfileAssociation
--   on ec2.amazonaws.com: a running instance given another role. Whoever
--   can run code on the instance then holds that role's credentials (a
--   known privilege escalation with iam:PassRole). profile is the instance
--   profile given. Denied attempts are listed too. Commonly caused by
--   accident: fixing an instance launched without a profile.
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(json_extract_scalar(requestparameters, '$.AssociateIamInstanceProfileRequest.InstanceId'), json_extract_scalar(requestparameters, '$.ReplaceIamInstanceProfileAssociationRequest.AssociationId'), json_extract_scalar(requestparameters, '$.instanceId'), json_extract_scalar(requestparameters, '$.associationId')) AS target,
  error_code,
  coalesce(json_extract_scalar(requestparameters, '$.AssociateIamInstanceProfileRequest.IamInstanceProfile.Name'), json_extract_scalar(requestparameters, '$.AssociateIamInstanceProfileRequest.IamInstanceProfile.Arn'), json_extract_scalar(requestparameters, '$.ReplaceIamInstanceProfileAssociationRequest.IamInstanceProfile.Arn'), json_extract_scalar(requestparameters, '$.ReplaceIamInstanceProfileAssociationRequest.IamInstanceProfile.Name'), json_extract_scalar(requestparameters, '$.iamInstanceProfile.name'), json_extract_scalar(requestparameters, '$.iamInstanceProfile.arn')) AS profile,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname IN ('AssociateIamInstanceProfile', 'ReplaceIamInstanceProfileAssociation')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
