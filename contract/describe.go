package contract

import "slices"

// ExitDescriptions is Describe for every code from 0 to the largest one,
// indexed by the code: the state machine looks a task's exit code up in it
// (States.ArrayGetItem), so the cloud's failure cause and the local one
// come from the same words. Numbers no code uses read as unknown codes.
func ExitDescriptions() []string {
	out := make([]string, int(slices.Max(ExitCodes))+1)
	for i := range out {
		out[i] = ExitCode(i).Describe()
	}
	return out
}
