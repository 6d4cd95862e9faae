-- title: Unauthorized API calls, without service, console and scanner noise
-- severity: medium
-- id: trailsql.cis.unauthorized-api-calls-tuned
-- tags: attack.discovery, attack.t1580
-- references: CIS AWS Foundations 3.1 (v1.2.0), 4.1 (v1.4.0-v5.0), 5.1 (v6.0, v7.0); Security Hub CloudWatch.2 (the tuned variant of cis/unauthorized-api-calls)
-- description: The calls cis/unauthorized-api-calls lists (refused for
--   lack of permission, as the CIS metric filter selects them), less the
--   refusals that are known to be nobody's attack: (1) calls AWS services
--   make (sourceIPAddress a service name or AWS Internal, identity type
--   AWSService or invokedBy set, service-linked roles AWSServiceRoleFor*):
--   services probe what they may read; (2) reads the console makes behind a
--   page (read-only, with sessionCredentialFromConsole or the console's
--   user agent): it asks for everything a page might show; (3) reads by
--   security scanners (read-only, by a principal matching `scanners`, the
--   role names SecurityAudit-style scanners run under by default): they
--   try every API on purpose. Refused changes are always kept, whoever made
--   them. Use cis/unauthorized-api-calls where the control's exact meaning
--   is asked for (an audit); this one to look at.
-- param: scanners = *:assumed-role/*securityaudit*/*,*:assumed-role/*security-audit*/*,*:assumed-role/*prowler*/*,*:assumed-role/*scoutsuite*/* | principals (patterns, comma-separated) whose refused reads are scanner noise
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  resources[1]['arn'] AS target,
  error_code,
  errormessage AS error_message,
  readonly AS read_only,
  user_agent,
  access_key_id,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND (errorcode LIKE '%UnauthorizedOperation' OR errorcode LIKE 'AccessDenied%')
  AND (sourceipaddress IS DISTINCT FROM 'delivery.logs.amazonaws.com')
  AND (eventname IS DISTINCT FROM 'HeadBucket')
  -- (1) AWS services
  AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
  AND (sourceipaddress IS DISTINCT FROM 'AWS Internal')
  AND (useridentity.type IS DISTINCT FROM 'AWSService')
  AND useridentity.invokedby IS NULL
  AND coalesce(actor, '') NOT LIKE '%:assumed-role/AWSServiceRoleFor%'
  -- (2) the console's reads, (3) scanners' reads
  AND NOT (coalesce(readonly, false)
    AND (coalesce(sessioncredentialfromconsole, '') = 'true'
      OR coalesce(useragent, '') IN ('AWS Internal', 'console.amazonaws.com')
      OR allowlisted(actor, $scanners)))
ORDER BY eventtime, account, region, event_name, event_id
