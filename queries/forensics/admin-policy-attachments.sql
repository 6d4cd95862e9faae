-- title: Administrator access granted
-- severity: high
-- id: trailsql.forensics.admin-policy-attachments
-- tags: attack.privilege-escalation, attack.t1098.003
-- references: MITRE ATT&CK T1098 (Account Manipulation); Panther AWS.IAM.AttachAdminUserPolicy, AWS.IAM.AttachAdminRolePolicy; Stratus aws.persistence.iam-create-admin-user
-- description: AdministratorAccess attached to a user, group or role
--   (Attach{User,Group,Role}Policy with a policy ARN ending in
--   /AdministratorAccess), and inline policies put on a user, group or role
--   (Put{User,Group,Role}Policy) that allow every action on every resource
--   (the document, with spaces removed, has "Effect":"Allow", an "Action" of
--   "*" and a "Resource" of "*"). The inline test reads the whole document,
--   not statement by statement, so check the document column. A customer
--   managed policy that grants the same is not recognised by its name;
--   cis/iam-policy-changes lists every policy change. Denied attempts are
--   listed too.
-- param: policy = %/AdministratorAccess | the attached policy ARN, a LIKE pattern
WITH grants AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(
      json_extract_scalar(requestparameters, '$.userName'),
      json_extract_scalar(requestparameters, '$.groupName'),
      json_extract_scalar(requestparameters, '$.roleName')) AS target,
    error_code,
    coalesce(
      json_extract_scalar(requestparameters, '$.policyArn'),
      concat('inline: ', json_extract_scalar(requestparameters, '$.policyName'))) AS policy,
    json_extract_scalar(requestparameters, '$.policyArn') AS policy_arn,
    regexp_replace(json_extract_scalar(requestparameters, '$.policyDocument'), '\s+', '', 'g') AS document,
    user_agent,
    access_key_id,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'iam.amazonaws.com'
    AND eventname IN ('AttachUserPolicy', 'AttachGroupPolicy', 'AttachRolePolicy',
      'PutUserPolicy', 'PutGroupPolicy', 'PutRolePolicy')
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target,
  error_code, policy, document, user_agent, access_key_id, event_id
FROM grants
WHERE (event_name LIKE 'Attach%' AND policy_arn LIKE $policy)
  OR (event_name LIKE 'Put%'
    AND document LIKE '%"Effect":"Allow"%'
    AND regexp_like(document, '"Action":(\["\*"\]|"\*")')
    AND regexp_like(document, '"Resource":(\["\*"\]|"\*")'))
ORDER BY eventtime, account, region, event_name, event_id
