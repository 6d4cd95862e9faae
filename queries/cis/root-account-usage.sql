-- title: Root account usage
-- severity: high
-- id: trailsql.cis.root-account-usage
-- tags: attack.privilege-escalation, attack.t1078.004
-- references: CIS AWS Foundations 1.1/3.3 (v1.2.0), 1.7/4.3 (v1.4.0-v3.0), 4.3 (v4.0, v5.0), 5.3 (v6.0, v7.0); Security Hub CloudWatch.1
-- description: Calls made with an account's root user, exactly as the CIS
--   filter selects them: userIdentity.type Root, no invokedBy (not an AWS
--   service acting for root) and not an AwsServiceEvent. The versions differ
--   only in quoting. Failed and denied calls are included. For an
--   investigation, forensics/root-account-activity shows the same events with
--   the sign-in result, MFA and the access key used.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  resources[1]['arn'] AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
  AND (eventtype IS DISTINCT FROM 'AwsServiceEvent')
ORDER BY eventtime, account, region, event_name, event_id
