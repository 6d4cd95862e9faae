-- title: AWS Config configuration changes
-- severity: medium
-- id: trailsql.cis.aws-config-changes
-- tags: attack.defense-evasion, attack.t1562.008
-- references: CIS AWS Foundations 3.9 (v1.2.0), 4.9 (v1.4.0-v5.0), 5.9 (v6.0, v7.0); Security Hub CloudWatch.9
-- description: The configuration recorder stopped or changed and the
--   delivery channel changed or deleted (StopConfigurationRecorder,
--   PutConfigurationRecorder, PutDeliveryChannel, DeleteDeliveryChannel on
--   config.amazonaws.com), the CIS filter of every version.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.configurationRecorderName'),
    json_extract_scalar(requestparameters, '$.configurationRecorder.name'),
    json_extract_scalar(requestparameters, '$.deliveryChannelName'),
    json_extract_scalar(requestparameters, '$.deliveryChannel.name')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'config.amazonaws.com'
  AND eventname IN ('StopConfigurationRecorder', 'DeleteDeliveryChannel', 'PutDeliveryChannel',
    'PutConfigurationRecorder')
ORDER BY eventtime, account, region, event_name, event_id
