-- title: IAM policy changes made by hand
-- severity: medium
-- id: trailsql.cis.iam-policy-changes-tuned
-- tags: attack.persistence, attack.privilege-escalation, attack.t1098
-- references: CIS AWS Foundations 3.4 (v1.2.0), 4.4 (v1.4.0-v5.0), 5.4 (v6.0, v7.0); Security Hub CloudWatch.4 (the tuned variant of cis/iam-policy-changes)
-- description: The changes cis/iam-policy-changes lists (inline policies put or
--   deleted on users, groups and roles, managed policies and policy
--   versions created or deleted, and managed policies attached or
--   detached: the 16 events of the CIS filter, the same in every version.
--   The published filter matches event names only, so it would also count
--   AWS Organizations' CreatePolicy and DeletePolicy; this query keeps to
--   iam.amazonaws.com (Organizations changes are cis/organizations-
--   changes). SetDefaultPolicyVersion and permissions boundaries are not
--   in the CIS list and not here.) less those made by deployment: calls
--   through AWS services (CloudFormation stacks, service-linked roles),
--   calls whose user agent is a deployment tool's (`allow_tools`: the user
--   agent is the caller's to set, so an intruder can claim to be
--   Terraform; empty the list to see them), and principals in
--   `allow_principals` (the pipeline's roles). What is left is changes by
--   hand, where mistakes and intruders are. Use cis/iam-policy-changes
--   where the control's exact meaning is asked for (an audit); this one to
--   look at.
-- param: allow_tools = *Terraform*,*aws-cdk*,*aws-sam-cli*,*serverless*,*pulumi* | user agents of deployment tools (patterns, comma-separated)
-- param: allow_principals = | principals (ARN patterns, comma-separated) that deploy
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.policyArn'),
    json_extract_scalar(requestparameters, '$.policyName'),
    json_extract_scalar(responseelements, '$.policy.arn')) AS target,
  error_code,
  coalesce(
    json_extract_scalar(requestparameters, '$.userName'),
    json_extract_scalar(requestparameters, '$.groupName'),
    json_extract_scalar(requestparameters, '$.roleName')) AS principal,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'iam.amazonaws.com'
  AND eventname IN ('DeleteGroupPolicy', 'DeleteRolePolicy', 'DeleteUserPolicy',
    'PutGroupPolicy', 'PutRolePolicy', 'PutUserPolicy', 'CreatePolicy', 'DeletePolicy',
    'CreatePolicyVersion', 'DeletePolicyVersion', 'AttachRolePolicy', 'DetachRolePolicy',
    'AttachUserPolicy', 'DetachUserPolicy', 'AttachGroupPolicy', 'DetachGroupPolicy')
  -- Left out: AWS services, deployment tools, the pipeline's principals.
  AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
  AND useridentity.invokedby IS NULL
  AND coalesce(actor, '') NOT LIKE '%:assumed-role/AWSServiceRoleFor%'
  AND NOT allowlisted(user_agent, $allow_tools)
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, event_name, event_id
