-- title: SageMaker notebook start-up scripts added or changed
-- severity: medium
-- id: trailsql.attack.sagemaker-lifecycle-script
-- tags: attack.persistence, attack.execution, attack.t1059.009, attack.t1525
-- references: MITRE ATT&CK T1059.009 (Command and Scripting Interpreter: Cloud API), T1525 (Implant Internal Image)
-- description: CreateNotebookInstanceLifecycleConfig and
--   UpdateNotebookInstanceLifecycleConfig on sagemaker.amazonaws.com, and
--   UpdateNotebookInstance setting one: a shell script that runs as root
--   each time a notebook instance starts, with the notebook's role. Code
--   planted there survives restarts and reads the role's credentials.
--   Denied attempts are listed too. Commonly caused by accident: data-
--   science teams installing packages at start-up (the script is base64 in
--   the request: read it).
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    coalesce(json_extract_scalar(requestparameters, '$.notebookInstanceLifecycleConfigName'), json_extract_scalar(requestparameters, '$.notebookInstanceName')) AS target,
    error_code,
    json_extract_scalar(requestparameters, '$.lifecycleConfigName') AS lifecycle_config,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'sagemaker.amazonaws.com'
    AND eventname IN ('CreateNotebookInstanceLifecycleConfig', 'UpdateNotebookInstanceLifecycleConfig', 'UpdateNotebookInstance')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE event_name <> 'UpdateNotebookInstance' OR lifecycle_config IS NOT NULL
ORDER BY eventtime, account, region, actor, event_id
