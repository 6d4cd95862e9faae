-- title: GPU, accelerated or very large instances launched
-- severity: medium
-- id: trailsql.attack.unusual-instance-types
-- tags: attack.execution, attack.impact, attack.t1496
-- references: MITRE ATT&CK T1496 (Resource Hijacking); Stratus aws.execution.ec2-launch-unusual-instances
-- description: RunInstances asking for an instance type of the families
--   crypto miners and model thieves want (GPU and accelerator families p,
--   g, inf, trn, dl, f, vt; memory-heavy x; bare metal; 12xlarge and up),
--   attempts included (a stolen key usually hits a quota or a denial
--   first). count is how many instances were asked for. Commonly caused
--   by accident: a data-science team's planned training run.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  json_extract_scalar(requestparameters, '$.instanceType') AS target,
  error_code,
  json_extract_scalar(requestparameters, '$.instancesSet.items[0].maxCount') AS count,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname = 'RunInstances'
  AND regexp_like(json_extract_scalar(requestparameters, '$.instanceType'),
    '^(p[0-9]|g[0-9]|inf[0-9]|trn[0-9]|dl[0-9]|f[0-9]|vt[0-9]|x[0-9])|\.metal|\.([1-9][2-9]|[2-9][0-9])xlarge$')
ORDER BY eventtime, account, region, actor, event_id
