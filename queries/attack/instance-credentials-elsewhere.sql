-- title: EC2 instance credentials used from outside their instance
-- severity: high
-- id: trailsql.attack.instance-credentials-elsewhere
-- tags: attack.credential-access, attack.t1552.005, attack.defense-evasion, attack.t1550.001
-- references: MITRE ATT&CK T1552.005 (Unsecured Credentials: Cloud Instance Metadata API), T1550.001 (Use Alternate Authentication Material: Application Access Token); Stratus aws.credential-access.ec2-steal-instance-credentials; GuardDuty InstanceCredentialExfiltration
-- description: Calls made with an instance profile's credentials (a role
--   session named after its EC2 instance, i-...) from an address that is
--   not the instance's own: either an address from which principals that
--   are not instance sessions also call (the intruder's own keys beside
--   the stolen ones; shared_with counts those principals), or an address
--   other than the first this session called from (first_ip). One row per
--   session and address: its first call from there, and calls_from_ip
--   counting them. Calls through AWS services and from `allow_ips` are left
--   out. Commonly caused by accident: an instance stopped and started again
--   (a new public address), a person using their own keys on the instance,
--   instances behind one NAT with people's laptops (list the NAT in
--   `allow_ips`).
-- param: allow_ips = | addresses and CIDR blocks, comma-separated, where instance credentials may be used
WITH pairs AS (
  -- Each principal's calls from each address (an aggregation: one read of
  -- the archive, and windows over principals and addresses only); min_by
  -- keeps the whole first call, by time and event id.
  SELECT actor, source_ip, calls_from_ip,
    earliest['eventtime'] AS eventtime, earliest['account'] AS account,
    earliest['region'] AS region, earliest['event_source'] AS event_source,
    earliest['event_name'] AS event_name, earliest['error_code'] AS error_code,
    earliest['user_agent'] AS user_agent, earliest['event_id'] AS event_id
  FROM (
    SELECT actor, source_ip,
      min_by(
        named_struct('eventtime', eventtime, 'account', account, 'region', region,
          'event_source', event_source, 'event_name', event_name, 'error_code', error_code,
          'user_agent', user_agent, 'event_id', event_id),
        named_struct('t', eventtime, 'id', event_id)) AS earliest,
      CAST(count(*) AS BIGINT) AS calls_from_ip
    FROM cloudtrail_events
    WHERE eventtime >= $since AND eventtime < $until
      -- actor IS NOT NULL, spelled out: tested on each field, the
      -- condition is one the pass applies before the statement sees a row.
      AND (useridentity.arn IS NOT NULL OR useridentity.username IS NOT NULL
        OR useridentity.invokedby IS NOT NULL OR useridentity.principalid IS NOT NULL
        OR useridentity.type IS NOT NULL)
      AND sourceipaddress IS NOT NULL
      AND sourceipaddress NOT LIKE '%.amazonaws.com'
      AND sourceipaddress <> 'AWS Internal'
    GROUP BY actor, source_ip)
),
kinds AS (
  SELECT *,
    regexp_like(actor,
      '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+/i-[0-9a-fA-F]{8,17}$') AS instance_session
  FROM pairs
),
marked AS (
  SELECT *,
    CAST(sum(CASE WHEN instance_session THEN 0 ELSE 1 END) OVER (PARTITION BY source_ip) AS BIGINT)
      AS shared_with,
    first_value(source_ip) OVER (PARTITION BY actor ORDER BY eventtime, event_id) AS first_ip
  FROM kinds
)
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  regexp_replace(actor, '^.*/', '') AS target,
  error_code, first_ip, shared_with, calls_from_ip, user_agent, event_id
FROM marked
WHERE instance_session
  AND NOT allowlisted(source_ip, $allow_ips)
  AND (shared_with > 0 OR source_ip <> first_ip)
ORDER BY eventtime, account, region, actor, event_id
