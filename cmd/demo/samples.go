package main

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/localrun"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

// sampleKey makes the key of sample n ("1": the upload the demo makes,
// "2": the command it prints) that the Choice pattern and a rule prefix
// match. Both see the key as events encode it, so the key to upload is
// that one decoded ("q3+report*.csv" matches the upload "q3 report1.csv").
// With routePrefix the key is also routed: <routePrefix><target>/<path>,
// to the board target.
func sampleKey(cfg config.Config, n, target string) string {
	key := ""
	for _, first := range firstStarFills(cfg, n, target) {
		key = fillStars(cfg.KeyPattern, first, n)
		if !strings.HasPrefix(key, cfg.RuleKeyPrefix) {
			key = cfg.RuleKeyPrefix + key
		}
		if routed(cfg.RoutePrefix, key) && contract.StringMatches(cfg.KeyPattern, key) {
			break
		}
	}
	if raw, err := url.QueryUnescape(key); err == nil {
		return raw
	}
	return key
}

// firstStarFills are what the pattern's first '*' may stand for, best
// first: without routing, n; with routing, the target and a file name
// where the pattern leaves them open ("to/*" → "to/<target>/demo1.txt").
func firstStarFills(cfg config.Config, n, target string) []string {
	if cfg.RoutePrefix == "" {
		return []string{n}
	}
	before, after, _ := strings.Cut(unescapedStar(cfg.KeyPattern), "\x00")
	file := "demo" + n
	if after == "" {
		file += ".txt"
	}
	var fills []string
	switch {
	case !strings.HasPrefix(before, cfg.RoutePrefix): // "*..." : the star holds the route too
		fills = append(fills, cfg.RoutePrefix+target+"/"+file)
	case strings.Contains(strings.TrimPrefix(before, cfg.RoutePrefix), "/"): // the pattern names the target
		fills = append(fills, file)
	case strings.HasPrefix(after, "/"): // "to/*/..." : the star is the target
		fills = append(fills, target)
	default:
		fills = append(fills, target+"/"+file)
	}
	return append(fills, n)
}

// unescapedStar marks the pattern's first unescaped '*' with NUL.
func unescapedStar(pattern string) string {
	for i := 0; i < len(pattern); i++ {
		switch {
		case pattern[i] == '\\' && i+1 < len(pattern):
			i++
		case pattern[i] == '*':
			return pattern[:i] + "\x00" + pattern[i+1:]
		}
	}
	return pattern
}

// fillStars writes pattern with its first '*' as first and the others as
// rest; "\*" is a literal '*' and "\\" a literal '\'.
func fillStars(pattern, first, rest string) string {
	var b strings.Builder
	filled := false
	for i := 0; i < len(pattern); i++ {
		switch {
		case pattern[i] == '\\' && i+1 < len(pattern) && (pattern[i+1] == '*' || pattern[i+1] == '\\'):
			b.WriteByte(pattern[i+1])
			i++
		case pattern[i] == '*' && !filled:
			b.WriteString(first)
			filled = true
		case pattern[i] == '*':
			b.WriteString(rest)
		default:
			b.WriteByte(pattern[i])
		}
	}
	return b.String()
}

// routed reports whether key is <routePrefix><name>/<path> (any key when
// there is no routing).
func routed(routePrefix, key string) bool {
	if routePrefix == "" {
		return true
	}
	rest, ok := strings.CutPrefix(key, routePrefix)
	target, file, found := strings.Cut(rest, "/")
	return ok && found && contract.CheckName("board", target) == nil && file != "" && !strings.HasPrefix(file, "/")
}

// landsAs is where a delivered key lands under a board's data dir: the key
// itself, or for a routed key its path after <routePrefix><target>/ (the
// task strips those components, EDGE_DROP_STRIP_COMPONENTS).
func landsAs(cfg config.Config, key string) string {
	if cfg.RoutePrefix == "" {
		return key
	}
	parts := strings.SplitN(key, "/", pipeline.StripComponents(cfg.RoutePrefix)+1)
	return parts[len(parts)-1]
}

// uploadHelp is what the running demo prints: a command that uploads one
// more file as printed (it makes the file), under a key the pipeline
// delivers, with credentials both aws-cli v1 (AWS_DEFAULT_REGION) and v2
// read.
func uploadHelp(keys sigv4.Credentials, endpoint, bucket, key, filesIn string) string {
	file := path.Base(key)
	return fmt.Sprintf(`
The pipeline keeps running. Upload more from another shell (aws-cli v1 or v2):

  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=%s AWS_DEFAULT_REGION=%s
  echo "hello from another shell" > %s
  aws --endpoint-url %s s3 cp %s %s

Files appear in %s. Ctrl-C stops.
`, shellQuote(keys.AccessKeyID), shellQuote(keys.SecretAccessKey), localrun.Region, localrun.Region,
		shellQuote(file), endpoint, shellQuote(file), shellQuote("s3://"+bucket+"/"+key), filesIn)
}

// shellQuote makes s one word for a POSIX shell: as is when it holds only
// characters no shell treats specially, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+@%,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
