-- title: Network ACL changes
-- severity: medium
-- references: CIS AWS Foundations 3.11 (v1.2.0), 4.11 (v1.4.0-v5.0), 5.11 (v6.0, v7.0); Security Hub CloudWatch.11
-- description: Network ACLs and their entries created, replaced or deleted,
--   and ACL associations replaced: the six events of the CIS filter, the same
--   in every version. Matched on the event name, as the filter is.
SELECT
  eventtime,
  recipientaccountid AS account,
  awsregion AS region,
  coalesce(useridentity.arn, useridentity.username, useridentity.invokedby, useridentity.principalid, useridentity.type) AS actor,
  sourceipaddress AS source_ip,
  eventsource AS event_source,
  eventname AS event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.networkAclId'),
    json_extract_scalar(responseelements, '$.networkAcl.networkAclId'),
    json_extract_scalar(requestparameters, '$.associationId')) AS target,
  errorcode AS error_code,
  useragent AS user_agent,
  eventid AS event_id
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN ('CreateNetworkAcl', 'CreateNetworkAclEntry', 'DeleteNetworkAcl',
    'DeleteNetworkAclEntry', 'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation')
ORDER BY eventtime, account, region, event_name, event_id
