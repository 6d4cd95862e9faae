-- title: Security services disabled
-- severity: high
-- id: trailsql.attack.security-services-disabled
-- tags: attack.defense-evasion, attack.t1562.001
-- references: MITRE ATT&CK T1562.001 (Impair Defenses: Disable or Modify Tools); AWS GuardDuty, Security Hub, Macie, IAM Access Analyzer, Inspector and Detective API references
-- description: The services that watch an account switched off or cut
--   loose: GuardDuty detectors deleted or disabled (DeleteDetector;
--   UpdateDetector with enable false) or the account leaving its
--   administrator (DisassociateFromAdministratorAccount,
--   DisassociateFromMasterAccount); Security Hub disabled or its standards
--   turned off (DisableSecurityHub, BatchDisableStandards); Macie disabled
--   or paused (DisableMacie; UpdateMacieSession with status PAUSED); IAM
--   Access Analyzer analyzers deleted (DeleteAnalyzer); Inspector disabled
--   (Disable); Detective graphs deleted (DeleteGraph). Denied attempts are
--   listed too. (AWS Config is the CIS control cis/aws-config-changes;
--   CloudTrail, forensics/trail-tampering.) Commonly caused by accident: a
--   test account's services turned off to save money.
SELECT
  eventtime, account, region, actor, source_ip, event_source, event_name,
  coalesce(
    json_extract_scalar(requestparameters, '$.detectorId'),
    json_extract_scalar(requestparameters, '$.analyzerName'),
    json_extract_scalar(requestparameters, '$.graphArn'),
    sigma_text(requestparameters, 'StandardsSubscriptionArns')) AS target,
  error_code,
  user_agent,
  event_id
FROM cloudtrail_events
WHERE eventtime >= $since AND eventtime < $until
  AND ((eventsource = 'guardduty.amazonaws.com'
        AND (eventname IN ('DeleteDetector', 'DisassociateFromAdministratorAccount',
                           'DisassociateFromMasterAccount')
          OR (eventname = 'UpdateDetector'
              AND json_extract_scalar(requestparameters, '$.enable') = 'false')))
    OR (eventsource = 'securityhub.amazonaws.com'
        AND eventname IN ('DisableSecurityHub', 'BatchDisableStandards'))
    OR (eventsource = 'macie2.amazonaws.com'
        AND (eventname = 'DisableMacie'
          OR (eventname = 'UpdateMacieSession'
              AND json_extract_scalar(requestparameters, '$.status') = 'PAUSED')))
    OR (eventsource = 'access-analyzer.amazonaws.com' AND eventname = 'DeleteAnalyzer')
    OR (eventsource = 'inspector2.amazonaws.com' AND eventname = 'Disable')
    OR (eventsource = 'detective.amazonaws.com' AND eventname = 'DeleteGraph'))
ORDER BY eventtime, account, region, event_name, event_id
