-- title: Security group changes
-- severity: medium
-- id: trailsql.cis.security-group-changes
-- tags: attack.defense-evasion, attack.t1562.007
-- references: CIS AWS Foundations 3.10 (v1.2.0), 4.10 (v1.4.0-v5.0), 5.10 (v6.0, v7.0); Security Hub CloudWatch.10
-- description: Security groups created or deleted and their rules
--   authorized, revoked or modified. CIS up to v4.0 (and Security Hub) list
--   six events; v5.0 adds ModifySecurityGroupRules. This query takes all
--   seven, so it answers for every version (Prowler's check does not require
--   the seventh). Matched on the event name, as the filter is.
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
ORDER BY eventtime, account, region, event_name, event_id
