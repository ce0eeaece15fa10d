package contract

const (
	// ContainerName is the task definition's one container; the state
	// machine's container overrides name it.
	ContainerName = "download"
	// VolumeName is the host volume that holds the board's data directory.
	VolumeName = "data"
)

// Error names raised by Step Functions' ECS integrations, which the state
// machine's Retry rules match on and the local ECS stand-in raises.
const (
	// ErrPlacement is what runTask.sync raises when RunTask answers with
	// failures instead of a task (RESOURCE:MEMORY: the board is busy;
	// AGENT: the board's agent is disconnected).
	ErrPlacement = "AmazonECS.Unknown"
	// ErrECSException is ECS's catch-all error. It carries throttling
	// ("Rate exceeded") and, as reported in the field, RunTask capacity
	// failures too (no container instance can take the task: the board is
	// busy or offline), so it is retried like ErrPlacement, not briefly.
	ErrECSException = "ECS.AmazonECSException"
)

// ErrDeliveryFailed is the error of an execution whose delivery failed (the
// DeliveryFailed state); its cause says which object and why.
const ErrDeliveryFailed = "EdgeDrop.DeliveryFailed"

// StateDirName is the hidden directory inside the board's data dir where
// the task keeps its state (delivery records, per-key locks, temp files).
// Object keys whose first component is this name are refused.
const StateDirName = ".edge-drop"

// ErrTooLarge is the error of an execution whose object is larger than the
// board accepts (the TooLarge state): nothing was started on the board.
const ErrTooLarge = "EdgeDrop.TooLarge"

// EnvTaskMetadata is set by the ECS agent in every container (ECS's name,
// not edge-drop's): the task metadata endpoint, version 4. GET <it>/task
// answers {"TaskARN": ..., "Cluster": ...}; the task puts its own ARN in
// its Report, and the local ECS stand-in serves the same endpoint.
const EnvTaskMetadata = "ECS_CONTAINER_METADATA_URI_V4"
