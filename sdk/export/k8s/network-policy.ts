// The instance's network as NetworkPolicies: every pod denied by default; pods of namespaces with a
// veth (warren/network=bridge) reach each other and the cluster's DNS, and nothing else reaches
// them, as the local instance's bridge lets its services reach each other but not the host.
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { instanceLabels, NETWORK_LABEL } from './labels.ts';

/** Where service names are resolved: CoreDNS as most clusters label it. */
const CLUSTER_DNS = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
};

export function networkPolicies(namespace: string, env: string, instance: string): INetworkPolicy[] {
  const labels = instanceLabels(env, instance);
  const bridge = { matchLabels: { [NETWORK_LABEL]: 'bridge' } };
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny', namespace, labels },
      // A pod of a namespace without .veth() gets only this: no traffic in or out, like a namespace with loopback alone.
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'instance-network', namespace, labels },
      spec: {
        podSelector: bridge,
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: bridge }] }],
        egress: [
          { to: [{ podSelector: bridge }] },
          { to: [CLUSTER_DNS], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
        ],
      },
    },
  ];
}
