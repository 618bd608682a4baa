// Package charttest checks the Helm chart in ../wanjia against Kubernetes'
// own API types: every manifest that `helm template` renders must decode
// strictly (no unknown field) into its k8s.io/api type, and the parts must
// refer only to the Secrets and ConfigMaps the chart renders or is told exist.
//
// It is a module of its own, so that the service's go.mod does not carry
// the Kubernetes API modules. Run it with `make chart-test`, which needs the
// helm binary that `make chart-lint` installs.
package charttest
