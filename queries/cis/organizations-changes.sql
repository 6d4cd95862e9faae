-- title: AWS Organizations changes
-- severity: high
-- id: trailsql.cis.organizations-changes
-- tags: attack.defense-evasion, attack.t1666
-- references: CIS AWS Foundations 4.15 (v1.4.0-v5.0), 5.15 (v6.0, v7.0); no Security Hub control
-- description: Changes to the organization on organizations.amazonaws.com:
--   accounts created, invited, moved, removed or leaving; organizational
--   units and policies created, updated, attached, detached or deleted;
--   policy types enabled or disabled; handshakes accepted or declined. The
--   CIS list has 18 events (the same in every version); Prowler's check asks
--   for three more (CancelHandshake, CreateOrganization, EnableAllFeatures).
--   This query takes all 21, so it answers for both.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.accountId'),
    json_extract_scalar(requestparameters, '$.policyId'),
    json_extract_scalar(requestparameters, '$.organizationalUnitId'),
    json_extract_scalar(requestparameters, '$.handshakeId'),
    json_extract_scalar(requestparameters, '$.name'),
    json_extract_scalar(requestparameters, '$.accountName'),
    json_extract_scalar(requestparameters, '$.target.id')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'organizations.amazonaws.com'
  AND eventname IN ('AcceptHandshake', 'AttachPolicy', 'CreateAccount', 'CreateOrganizationalUnit',
    'CreatePolicy', 'DeclineHandshake', 'DeleteOrganization', 'DeleteOrganizationalUnit',
    'DeletePolicy', 'DetachPolicy', 'DisablePolicyType', 'EnablePolicyType',
    'InviteAccountToOrganization', 'LeaveOrganization', 'MoveAccount',
    'RemoveAccountFromOrganization', 'UpdatePolicy', 'UpdateOrganizationalUnit',
    'CancelHandshake', 'CreateOrganization', 'EnableAllFeatures')
ORDER BY eventtime, account, region, event_name, event_id
