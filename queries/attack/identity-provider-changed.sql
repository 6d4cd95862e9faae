-- title: SAML or OIDC identity providers added or changed
-- severity: high
-- id: trailsql.attack.identity-provider-changed
-- tags: attack.defense-evasion, attack.privilege-escalation, attack.persistence, attack.t1484.002
-- references: MITRE ATT&CK T1484.002 (Domain or Tenant Policy Modification: Trust Modification)
-- description: CreateSAMLProvider, UpdateSAMLProvider, CreateOpenIDConnectProvider,
--   AddClientIDToOpenIDConnectProvider and
--   UpdateOpenIDConnectProviderThumbprint on iam.amazonaws.com: a new
--   party trusted to sign people in. With its own identity provider an
--   intruder can assume any role that trusts it, without a password or key
--   of this account. target is the provider's name or URL. Denied attempts
--   are listed too. Commonly caused by accident: setting up single sign-on
--   or CI federation (GitHub Actions'
--   token.actions.githubusercontent.com), and yearly certificate rotation
--   (UpdateSAMLProvider).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(json_extract_scalar(requestparameters, '$.name'), json_extract_scalar(requestparameters, '$.url'), regexp_replace(json_extract_scalar(requestparameters, '$.sAMLProviderArn'), '^.*saml-provider/', ''), json_extract_scalar(requestparameters, '$.openIDConnectProviderArn')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'iam.amazonaws.com'
  AND eventname IN ('CreateSAMLProvider', 'UpdateSAMLProvider', 'CreateOpenIDConnectProvider', 'AddClientIDToOpenIDConnectProvider', 'UpdateOpenIDConnectProviderThumbprint')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
