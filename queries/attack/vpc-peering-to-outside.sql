-- title: VPC peering and network links to other accounts
-- severity: medium
-- id: trailsql.attack.vpc-peering-to-outside
-- tags: attack.defense-evasion, attack.t1599, attack.exfiltration, attack.t1537
-- references: MITRE ATT&CK T1599 (Network Boundary Bridging), T1537 (Transfer Data to Cloud Account)
-- description: CreateVpcPeeringConnection on ec2.amazonaws.com asking to peer with a
--   VPC of another account (peerOwnerId), and AcceptVpcPeeringConnection:
--   a private network path between this account's VPC and someone else's,
--   past the internet-facing controls. Accounts in `allow_accounts` are
--   left out. Denied attempts are listed too. Commonly caused by accident:
--   links to the organization's shared-services or partner accounts (list
--   them).
-- param: allow_accounts = | accounts (ids or patterns, comma-separated) trusted to be let in
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(json_extract_scalar(requestparameters, '$.CreateVpcPeeringConnectionRequest.VpcId'), json_extract_scalar(requestparameters, '$.vpcId'), json_extract_scalar(requestparameters, '$.AcceptVpcPeeringConnectionRequest.VpcPeeringConnectionId'), json_extract_scalar(requestparameters, '$.vpcPeeringConnectionId')) AS target,
    error_code,
    coalesce(json_extract_scalar(requestparameters, '$.CreateVpcPeeringConnectionRequest.PeerOwnerId'), json_extract_scalar(requestparameters, '$.peerOwnerId'), json_extract_scalar(responseelements, '$.vpcPeeringConnection.requesterVpcInfo.ownerId')) AS peer_account,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'ec2.amazonaws.com'
    AND eventname IN ('CreateVpcPeeringConnection', 'AcceptVpcPeeringConnection')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE event_name = 'AcceptVpcPeeringConnection' AND (peer_account IS NULL OR (peer_account <> account AND NOT allowlisted(peer_account, $allow_accounts))) OR event_name = 'CreateVpcPeeringConnection' AND peer_account IS NOT NULL AND peer_account <> account AND NOT allowlisted(peer_account, $allow_accounts)
ORDER BY eventtime, account, region, actor, event_id
