// Package contract holds every name that the cloud side (the CDK app), the
// local pipeline and the board (edge-drop-task) must agree on: environment
// variables, container and volume names, exit codes and their classes, and
// the error names the state machine matches on. Each is defined here once.
//
// It is its own Go module with no dependencies, so that the task module can
// import it without pulling in CDK, and the CDK module without pulling in
// the task.
package contract
