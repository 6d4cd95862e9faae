-- title: Web application firewalls and network firewalls removed
-- severity: medium
-- id: trailsql.attack.network-defenses-removed
-- tags: attack.defense-evasion, attack.t1562.007
-- references: MITRE ATT&CK T1562.007 (Impair Defenses: Disable or Modify Cloud Firewall)
-- description: WAF web ACLs deleted or taken off a resource (DeleteWebACL,
--   DisassociateWebACL on wafv2), Network Firewall firewalls deleted or
--   their logging changed (DeleteFirewall, UpdateLoggingConfiguration),
--   and Shield protections deleted (DeleteProtection). Denied attempts are
--   listed too. Commonly caused by accident: test environments torn down,
--   and logging reconfigured (UpdateLoggingConfiguration with destinations
--   still set: check the request).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(json_extract_scalar(requestparameters, '$.name'), json_extract_scalar(requestparameters, '$.resourceArn'), json_extract_scalar(requestparameters, '$.firewallName'), json_extract_scalar(requestparameters, '$.protectionId')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND ((eventsource = 'wafv2.amazonaws.com' AND eventname IN ('DeleteWebACL', 'DisassociateWebACL')) OR (eventsource = 'network-firewall.amazonaws.com' AND eventname IN ('DeleteFirewall', 'UpdateLoggingConfiguration')) OR (eventsource = 'shield.amazonaws.com' AND eventname = 'DeleteProtection'))
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
