package config

import (
	"fmt"
	"strings"
)

// crossChecks are the rules that tie keys together, run in this order
// after every key's own rules; a key already found bad is not compared
// again (problems.bad).
var crossChecks = []func(Config, *problems){
	Config.bucketsExclusive,
	Config.createdClusterName,
	Config.oneRuleFilter,
	Config.patternMatchesRoutes,
	Config.prefixesAgree,
	Config.routeOrTarget,
	Config.coalesceServes,
}

func (c Config) bucketsExclusive(p *problems) {
	if c.BucketName != "" && c.ExistingBucketName != "" {
		p.add(KeyExistingBucketName, c.ExistingBucketName, "cannot be set together with bucketName: set one (import) or the other (create)")
	}
}

// createdClusterName: clusterName names the cluster edge-drop creates, so
// it is checked only when existingClusterName does not import one.
func (c Config) createdClusterName(p *problems) {
	if !c.ImportsCluster() && !clusterRE.MatchString(c.ClusterName) {
		p.add(KeyClusterName, c.ClusterName, clusterRule)
	}
}

func (c Config) oneRuleFilter(p *problems) {
	filters := 0
	for _, f := range []string{c.RuleKeyPrefix, c.RuleKeySuffix, c.RuleKeyWildcard} {
		if f != "" {
			filters++
		}
	}
	if filters > 1 {
		p.add(KeyRuleKeyPrefix, c.RuleKeyPrefix+"|"+c.RuleKeySuffix+"|"+c.RuleKeyWildcard, "set at most one of ruleKeyPrefix, ruleKeySuffix, ruleKeyWildcard")
	}
}

// patternMatchesRoutes: with routing by key, keyPattern must let routed
// keys through (the default, demo*.txt, would skip every one).
func (c Config) patternMatchesRoutes(p *problems) {
	if c.RoutePrefix == "" || p.bad[KeyRoutePrefix] || strings.HasPrefix(c.KeyPattern, "*") || strings.HasPrefix(c.KeyPattern, c.RoutePrefix) {
		return
	}
	p.add(KeyKeyPattern, c.KeyPattern, "matches no routed key: with routePrefix="+c.RoutePrefix+" it must start with "+c.RoutePrefix+", e.g. "+c.RoutePrefix+"*")
}

// prefixesAgree: every delivered key starts with the literal start of
// ruleKeyPrefix, keyPattern, ruleKeyWildcard and routePrefix (decoded), so
// two of them of which neither starts the other deliver nothing at all.
// The pairs are compared against the keys found bad before this check.
func (c Config) prefixesAgree(p *problems) {
	keys := []string{KeyRuleKeyPrefix, KeyKeyPattern, KeyRuleKeyWildcard, KeyRoutePrefix}
	values := []string{c.RuleKeyPrefix, c.KeyPattern, c.RuleKeyWildcard, c.RoutePrefix}
	prefixes := c.prefixes()
	type disagreement struct{ i, j int }
	var found []disagreement
	for i := range prefixes {
		for j := i + 1; j < len(prefixes); j++ {
			a, b := prefixes[i], prefixes[j]
			if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) || p.bad[keys[i]] || p.bad[keys[j]] ||
				keys[i] == KeyKeyPattern && keys[j] == KeyRoutePrefix { // patternMatchesRoutes
				continue
			}
			found = append(found, disagreement{i, j})
		}
	}
	for _, d := range found {
		i, j := d.i, d.j
		p.add(keys[j], values[j], fmt.Sprintf(
			"matches no key that %s=%s matches (every delivered key would start with both %q and %q), so no upload would ever be delivered: make one start with the other", keys[i], values[i], prefixes[i], prefixes[j]))
	}
}

// routeOrTarget: with routing by key the key names the boards.
func (c Config) routeOrTarget(p *problems) {
	if c.RoutePrefix != "" && c.DeliverTo.Kind != TargetAny {
		p.add(KeyRoutePrefix, c.RoutePrefix, "cannot be set together with deliverTo="+c.DeliverTo.String()+": the key names the target; unset one of them")
	}
}
