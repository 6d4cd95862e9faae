-- title: Route 53 domains unlocked or transferred away
-- severity: high
-- id: trailsql.attack.domain-transfer
-- tags: attack.resource-development, attack.t1584.001, attack.impact
-- references: MITRE ATT&CK T1584.001 (Compromise Infrastructure: Domains)
-- description: On route53domains.amazonaws.com: DisableDomainTransferLock and
--   TransferDomainToAnotherAwsAccount: a registered domain unlocked or
--   handed to another account, after which whoever holds it answers for
--   the company's name (mail, sign-in pages). Denied attempts are listed
--   too. Commonly caused by accident: moving domains between the
--   organization's own accounts (check the accountId in the request).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.domainName') AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.accountId') AS to_account,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'route53domains.amazonaws.com'
  AND eventname IN ('DisableDomainTransferLock', 'TransferDomainToAnotherAwsAccount')
  AND NOT allowlisted(actor, $allow_principals)
ORDER BY eventtime, account, region, actor, event_id
