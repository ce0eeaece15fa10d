package config

import "github.com/edge-drop/edge-drop/contract"

// Delivery is the configuration the CLI and the status page need to say
// which keys are delivered and to which boards: the pipeline stack's
// output contract.OutputDelivery, and the local demo's endpoints file.
func (c Config) Delivery() contract.Delivery {
	d := contract.Delivery{
		DeliverTo:       c.DeliverTo.String(),
		RoutePrefix:     c.RoutePrefix,
		KeyPattern:      c.KeyPattern,
		RuleKeyPrefix:   c.RuleKeyPrefix,
		RuleKeySuffix:   c.RuleKeySuffix,
		RuleKeyWildcard: c.RuleKeyWildcard,
		ListPrefix:      c.ReadPrefix(),
		Sync:            c.Syncs() || c.MirrorDeletes,
	}
	if c.Syncs() {
		d.SyncEvery = c.SyncEvery.String()
	}
	if c.RoutePrefix != "" {
		d.DeliverTo = ""
	}
	return d
}
