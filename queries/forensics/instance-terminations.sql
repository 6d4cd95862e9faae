-- title: EC2 instances terminated by people, not by Auto Scaling
-- severity: medium
-- id: trailsql.forensics.instance-terminations
-- tags: attack.defense-evasion, attack.t1578.003
-- references: MITRE ATT&CK T1485 (Data Destruction), T1578.003 (Delete Cloud Instance); Panther AWS.EC2 rules (service callers)
-- description: TerminateInstances calls and who made them, with the
--   instances named in the request. Calls made by Auto Scaling (the
--   AWSServiceRoleForAutoScaling session, or invokedBy, source or user agent
--   autoscaling.amazonaws.com) and by other AWS services (identity type
--   AWSService) are left out: scale-in is routine. The outcome column keeps
--   terminations apart from dry runs (Client.DryRunOperation) and denied or
--   failed attempts, which are listed too.
-- param: instance = % | an instance id, a LIKE pattern matched against the requested ids
WITH terminations AS (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    regexp_replace(
      json_extract(requestparameters, '$.instancesSet.items[*].instanceId'),
      '[\[\]"]', '', 'g') AS target,
    error_code,
    CASE
      WHEN errorcode IS NULL OR errorcode = 'Success' THEN 'terminated'
      WHEN errorcode = 'Client.DryRunOperation' THEN 'dry run'
      ELSE 'denied or failed'
    END AS outcome,
    useridentity.type AS identity_type,
    useridentity.sessioncontext.sessionissuer.arn AS role_arn,
    user_agent,
    access_key_id,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'ec2.amazonaws.com'
    AND eventname = 'TerminateInstances'
    AND (useridentity.type IS DISTINCT FROM 'AWSService')
    AND (useridentity.invokedby IS DISTINCT FROM 'autoscaling.amazonaws.com')
    AND (sourceipaddress IS DISTINCT FROM 'autoscaling.amazonaws.com')
    AND (useragent IS DISTINCT FROM 'autoscaling.amazonaws.com')
    AND coalesce(useridentity.sessioncontext.sessionissuer.arn, '') NOT LIKE '%:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling%'
    AND coalesce(useridentity.arn, '') NOT LIKE '%:assumed-role/AWSServiceRoleForAutoScaling/%'
)
SELECT * FROM terminations
WHERE coalesce(target, '') LIKE concat('%', $instance, '%')
ORDER BY eventtime, account, region, event_id
