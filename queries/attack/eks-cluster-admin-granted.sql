-- title: Kubernetes cluster administration granted through EKS access entries
-- severity: high
-- id: trailsql.attack.eks-cluster-admin-granted
-- tags: attack.privilege-escalation, attack.persistence, attack.t1098.006
-- references: MITRE ATT&CK T1098.006 (Account Manipulation: Additional Container Cluster Roles)
-- description: On eks.amazonaws.com: AssociateAccessPolicy with
--   AmazonEKSClusterAdminPolicy or AmazonEKSAdminPolicy, and
--   CreateAccessEntry or UpdateAccessEntry putting a principal in
--   system:masters: an IAM principal made administrator of a cluster,
--   without touching the cluster's own configuration. principal is who was
--   let in. Denied attempts are listed too. Commonly caused by accident:
--   platform teams adding themselves while setting up a cluster.
-- param: allow_principals = | principals (ARN patterns, comma-separated) whose calls are expected
SELECT * FROM (
  SELECT
    eventtime, account, region, actor, source_ip, event_source, event_name,
    json_extract_scalar(requestparameters, '$.name') AS target,
    error_code,
    json_extract_scalar(requestparameters, '$.principalArn') AS principal,
    coalesce(json_extract_scalar(requestparameters, '$.policyArn'), sigma_text(requestparameters, 'kubernetesGroups')) AS granted,
    user_agent,
    event_id
  FROM cloudtrail_events
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'eks.amazonaws.com'
    AND eventname IN ('AssociateAccessPolicy', 'CreateAccessEntry', 'UpdateAccessEntry')
    AND NOT allowlisted(actor, $allow_principals)
)
WHERE granted LIKE '%AmazonEKSClusterAdminPolicy' OR granted LIKE '%AmazonEKSAdminPolicy' OR granted LIKE '%system:masters%'
ORDER BY eventtime, account, region, actor, event_id
