-- title: Security groups opened to the whole internet
-- severity: high
-- id: trailsql.forensics.security-groups-open-to-world
-- tags: attack.defense-evasion, attack.t1562.007
-- references: MITRE ATT&CK T1562.007 (Disable or Modify Cloud Firewall); Stratus aws.exfiltration.ec2-security-group-open-port-22-ingress; CIS AWS Foundations 5.2/5.3 (v1.4.0+ networking section)
-- description: Security group rules that admit 0.0.0.0/0 or ::/0 (any
--   address with prefix length 0, which admits the same), in every
--   request shape CloudTrail records: AuthorizeSecurityGroupIngress and
--   AuthorizeSecurityGroupEgress with a single rule (cidrIp at the top of the
--   request) or a list of rules (ipPermissions items with ipRanges or
--   ipv6Ranges), and ModifySecurityGroupRules (CidrIpv4 / CidrIpv6 under
--   ModifySecurityGroupRulesRequest). direction says ingress or egress;
--   ports gives the protocol and ports of the (first) rule where the request
--   has them. Denied attempts are listed too.
WITH changes AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(
      json_extract_scalar(requestparameters, '$.groupId'),
      json_extract_scalar(requestparameters, '$.ModifySecurityGroupRulesRequest.GroupId'),
      json_extract_scalar(requestparameters, '$.groupName')) AS target,
    error_code,
    CASE
      WHEN eventname = 'AuthorizeSecurityGroupEgress' THEN 'egress'
      WHEN eventname = 'AuthorizeSecurityGroupIngress' THEN 'ingress'
      ELSE 'rule modified'
    END AS direction,
    coalesce(json_extract_scalar(requestparameters, '$.ipProtocol'),
      json_extract_scalar(requestparameters, '$.ipPermissions.items[0].ipProtocol'),
      json_extract_scalar(requestparameters, '$.ModifySecurityGroupRulesRequest.SecurityGroupRule.SecurityGroupRule.IpProtocol')) AS protocol,
    coalesce(json_extract_scalar(requestparameters, '$.fromPort'),
      json_extract_scalar(requestparameters, '$.ipPermissions.items[0].fromPort'),
      json_extract_scalar(requestparameters, '$.ModifySecurityGroupRulesRequest.SecurityGroupRule.SecurityGroupRule.FromPort')) AS from_port,
    coalesce(json_extract_scalar(requestparameters, '$.toPort'),
      json_extract_scalar(requestparameters, '$.ipPermissions.items[0].toPort'),
      json_extract_scalar(requestparameters, '$.ModifySecurityGroupRulesRequest.SecurityGroupRule.SecurityGroupRule.ToPort')) AS to_port,
    requestparameters,
    user_agent,
    access_key_id,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'ec2.amazonaws.com'
    AND eventname IN ('AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'ModifySecurityGroupRules')
)
SELECT eventtime, account, region, actor, source_ip, event_source, event_name, target, error_code,
  direction,
  concat_ws(' ',
    regexp_match(requestparameters, '"(?:cidrIp|CidrIpv4)":"([0-9.]+/0)"')[1],
    regexp_match(requestparameters, '"(?:cidrIpv6|CidrIpv6)":"([0-9A-Fa-f:.]+/0)"')[1]) AS open_to,
  CASE
    WHEN protocol = '-1' THEN 'all traffic'
    WHEN from_port IS NULL THEN protocol
    WHEN from_port = to_port THEN concat(protocol, ' ', from_port)
    ELSE concat(protocol, ' ', from_port, '-', coalesce(to_port, ''))
  END AS ports,
  user_agent, access_key_id, event_id
FROM changes
WHERE regexp_like(requestparameters, '"(?:cidrIp|CidrIpv4)":"[0-9.]+/0"')
  OR regexp_like(requestparameters, '"(?:cidrIpv6|CidrIpv6)":"[0-9A-Fa-f:.]+/0"')
ORDER BY eventtime, account, region, event_name, event_id
