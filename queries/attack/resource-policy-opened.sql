-- title: Secrets, repositories, topics and queues opened to outsiders
-- severity: high
-- id: trailsql.attack.resource-policy-opened
-- tags: attack.exfiltration, attack.t1537, attack.persistence, attack.t1098
-- references: MITRE ATT&CK T1537 (Transfer Data to Cloud Account), T1098 (Account Manipulation)
-- description: Resource policies that let in principals outside this account: Secrets
--   Manager secrets (PutResourcePolicy), ECR repositories
--   (SetRepositoryPolicy), SNS topics (SetTopicAttributes with
--   attributeName Policy), SQS queues (SetQueueAttributes with a Policy)
--   and SSM documents shared with other accounts or all
--   (ModifyDocumentPermission). outsiders lists who ("*" is everyone; a
--   statement with a condition is marked conditional); accounts in
--   `allow_accounts` are not outsiders. Denied attempts are listed too.
--   Commonly caused by accident: sharing with the organization's own
--   accounts (list them), and topics that AWS services publish to.
-- param: allow_accounts = | accounts (ids or patterns, comma-separated) trusted to be let in
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(json_extract_scalar(requestparameters, '$.secretId'), json_extract_scalar(requestparameters, '$.repositoryName'), json_extract_scalar(requestparameters, '$.topicArn'), json_extract_scalar(requestparameters, '$.queueUrl'), json_extract_scalar(requestparameters, '$.name')) AS target,
    error_code,
    CASE WHEN eventname = 'ModifyDocumentPermission' THEN nullif(array_to_string(array_remove(string_to_array(coalesce(sigma_text(requestparameters, 'accountIdsToAdd'), ''), ', '), account), ', '), '') ELSE policy_outsiders(coalesce(json_extract_scalar(requestparameters, '$.resourcePolicy'), json_extract_scalar(requestparameters, '$.policyText'), CASE WHEN json_extract_scalar(requestparameters, '$.attributeName') = 'Policy' THEN json_extract_scalar(requestparameters, '$.attributeValue') END, json_extract_scalar(requestparameters, '$.attributes.Policy')), account, $allow_accounts) END AS outsiders,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND ((eventsource = 'secretsmanager.amazonaws.com' AND eventname = 'PutResourcePolicy') OR (eventsource = 'ecr.amazonaws.com' AND eventname = 'SetRepositoryPolicy') OR (eventsource = 'sns.amazonaws.com' AND eventname = 'SetTopicAttributes') OR (eventsource = 'sqs.amazonaws.com' AND eventname = 'SetQueueAttributes') OR (eventsource = 'ssm.amazonaws.com' AND eventname = 'ModifyDocumentPermission'))
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE outsiders IS NOT NULL AND (event_name <> 'ModifyDocumentPermission' OR outsiders = 'All' OR NOT allowlisted(outsiders, $allow_accounts))
ORDER BY eventtime, account, region, actor, event_id
