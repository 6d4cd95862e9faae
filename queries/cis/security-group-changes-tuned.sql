-- title: Security group changes made by hand
-- severity: medium
-- id: trailsql.cis.security-group-changes-tuned
-- tags: attack.defense-evasion, attack.t1562.007
-- references: CIS AWS Foundations 3.10 (v1.2.0), 4.10 (v1.4.0-v5.0), 5.10 (v6.0, v7.0); Security Hub CloudWatch.10 (the tuned variant of cis/security-group-changes)
-- description: The changes cis/security-group-changes lists (security groups created
--   or deleted and their rules authorized, revoked or modified. CIS up to
--   v4.0 (and Security Hub) list six events; v5.0 adds
--   ModifySecurityGroupRules. This query takes all seven, so it answers
--   for every version (Prowler's check does not require the seventh).
--   Matched on the event name, as the filter is.) less those made by
--   deployment: calls through AWS services (CloudFormation stacks,
--   service-linked roles), calls whose user agent is a deployment tool's
--   (`allow_tools`: the user agent is the caller's to set, so an intruder
--   can claim to be Terraform; empty the list to see them), and principals
--   in `allow_principals` (the pipeline's roles). What is left is changes
--   by hand, where mistakes and intruders are. Use cis/security-group-
--   changes where the control's exact meaning is asked for (an audit);
--   this one to look at.
-- param: allow_tools = *Terraform*,*aws-cdk*,*aws-sam-cli*,*serverless*,*pulumi* | user agents of deployment tools (patterns, comma-separated)
-- param: allow_principals = | principals (ARN patterns, comma-separated) that deploy
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.groupId'),
    json_extract_scalar(requestparameters, '$.ModifySecurityGroupRulesRequest.GroupId'),
    json_extract_scalar(responseelements, '$.groupId'),
    json_extract_scalar(requestparameters, '$.groupName')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN ('AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress',
    'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress', 'CreateSecurityGroup',
    'DeleteSecurityGroup', 'ModifySecurityGroupRules')
  -- Left out: AWS services, deployment tools, the pipeline's principals.
  AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
  AND useridentity.invokedby IS NULL
  AND coalesce(actor, '') NOT LIKE '%:assumed-role/AWSServiceRoleFor%'
  AND NOT allowlisted(user_agent, $allow_tools)
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, event_name, event_id
