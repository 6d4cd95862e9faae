-- title: Network ACL changes
-- severity: medium
-- id: trailsql.cis.nacl-changes
-- tags: attack.defense-evasion, attack.t1562.007
-- references: CIS AWS Foundations 3.11 (v1.2.0), 4.11 (v1.4.0-v5.0), 5.11 (v6.0, v7.0); Security Hub CloudWatch.11
-- description: Network ACLs and their entries created, replaced or deleted,
--   and ACL associations replaced: the six events of the CIS filter, the same
--   in every version. Matched on the event name, as the filter is.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.networkAclId'),
    json_extract_scalar(responseelements, '$.networkAcl.networkAclId'),
    json_extract_scalar(requestparameters, '$.associationId')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN ('CreateNetworkAcl', 'CreateNetworkAclEntry', 'DeleteNetworkAcl',
    'DeleteNetworkAclEntry', 'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation')
ORDER BY eventtime, account, region, event_name, event_id
