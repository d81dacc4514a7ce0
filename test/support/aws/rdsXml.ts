/**
 * RDS resources as the 2014-10-31 API writes them in XML: the element names and nesting the
 * SDK's awsQuery deserializer reads (`DBInstances` → `DBInstance`, `TagList` → `Tag`,
 * `DBClusterMembers` → `DBClusterMember`), timestamps in ISO 8601.
 */
import { xmlElement, xmlList } from './awsQuery.ts';
import type { FakeDbCluster, FakeDbInstance } from './FakeAws.ts';

/** One instance of a cluster, as `DBClusterMembers` lists it. */
export interface ClusterMember {
  id: string;
  writer: boolean;
}

/** `<TagList><Tag><Key>…</Key><Value>…</Value></Tag>…</TagList>`, in the tags' insertion order. */
export function tagListXml(tags: Record<string, string>): string {
  return xmlList('TagList', Object.entries(tags), ([key, value]) =>
    xmlElement('Tag', [xmlElement('Key', key), xmlElement('Value', value)]),
  );
}

/** A `<DBInstance>`: the members Sesame reads, and the usual others a real instance carries. */
export function dbInstanceXml(instance: FakeDbInstance): string {
  return xmlElement('DBInstance', [
    xmlElement('DBInstanceIdentifier', instance.id),
    xmlElement('DBInstanceClass', instance.instanceClass),
    xmlElement('Engine', instance.engine),
    xmlElement('DBInstanceStatus', instance.status),
    xmlElement('MasterUsername', 'postgres'),
    xmlElement('Endpoint', [
      xmlElement('Address', instance.endpoint),
      xmlElement('Port', instance.port),
      xmlElement('HostedZoneId', 'Z2R2ITUGPM61AM'),
    ]),
    xmlElement('AllocatedStorage', instance.clusterId ? 1 : 20),
    xmlElement('InstanceCreateTime', instance.createdAt),
    xmlElement('AvailabilityZone', `${instance.region}a`),
    xmlElement('MultiAZ', false),
    xmlElement('EngineVersion', instance.engineVersion),
    xmlElement('AutoMinorVersionUpgrade', true),
    xmlElement('PubliclyAccessible', false),
    xmlElement('StorageType', instance.clusterId ? 'aurora' : 'gp3'),
    xmlElement('DBClusterIdentifier', instance.clusterId),
    xmlElement('StorageEncrypted', true),
    xmlElement('DbiResourceId', instance.resourceId),
    xmlElement('CACertificateIdentifier', 'rds-ca-rsa2048-g1'),
    xmlElement('DBInstanceArn', instance.arn),
    xmlElement('IAMDatabaseAuthenticationEnabled', instance.iamAuth),
    xmlElement('DeletionProtection', false),
    tagListXml(instance.tags),
  ]);
}

/** A `<DBCluster>` with its `<DBClusterMembers>`. */
export function dbClusterXml(cluster: FakeDbCluster, members: readonly ClusterMember[]): string {
  return xmlElement('DBCluster', [
    xmlElement('AllocatedStorage', 1),
    xmlElement('DBClusterIdentifier', cluster.id),
    xmlElement('DBClusterParameterGroup', `default.${cluster.engine}${cluster.engineVersion.split('.')[0]}`),
    xmlElement('Status', cluster.status),
    xmlElement('Endpoint', cluster.endpoint),
    xmlElement('ReaderEndpoint', cluster.readerEndpoint),
    xmlElement('MultiAZ', false),
    xmlElement('Engine', cluster.engine),
    xmlElement('EngineVersion', cluster.engineVersion),
    xmlElement('Port', cluster.port),
    xmlElement('MasterUsername', 'postgres'),
    xmlList('DBClusterMembers', members, (m) =>
      xmlElement('DBClusterMember', [
        xmlElement('DBInstanceIdentifier', m.id),
        xmlElement('IsClusterWriter', m.writer),
        xmlElement('DBClusterParameterGroupStatus', 'in-sync'),
        xmlElement('PromotionTier', 1),
      ]),
    ),
    xmlElement('HostedZoneId', 'Z2R2ITUGPM61AM'),
    xmlElement('StorageEncrypted', true),
    xmlElement('DbClusterResourceId', cluster.resourceId),
    xmlElement('DBClusterArn', cluster.arn),
    xmlElement('IAMDatabaseAuthenticationEnabled', cluster.iamAuth),
    xmlElement('ClusterCreateTime', cluster.createdAt),
    xmlElement('EngineMode', 'provisioned'),
    xmlElement('DeletionProtection', false),
    tagListXml(cluster.tags),
  ]);
}
