package pipeline

import (
	"fmt"
	"strings"

	"github.com/edge-drop/edge-drop/contract"
)

// The JSONata programs (JSONata 1.x, without $type: the Go implementation the
// local run uses panics on $type(null)). Each binds what every item shares, then builds the
// request. Attribute names go through #placeholders (key, status, at, start
// and end are DynamoDB reserved words); attrs maps name to value, null
// 'remove' for "remove it" (UpdateItem) or "leave it out" (PutItem); a name absent
// from attrs is left as it is.
const (
	jsonataCommon = `$o := $states.input;
  $ev := $states.context.Execution.Input.detail.object;
  $key := $decodeUrlComponent($replace($string($ev.key), '+', ' '));
  $seq := $pad($exists($ev.sequencer) ? $string($ev.sequencer) : '', 32, '0');
  $exec := $states.context.Execution.Id;
  $execName := $states.context.Execution.Name;
  $num := function($v) { ($exists($v) and $v != null) ? {'N': $string($v)} : 'remove' };
  $str := function($v) { ($exists($v) and $v != null and $string($v) != '') ? {'S': $string($v)} : 'remove' };
  $counts := function($c) { ($exists($c) and $c != null) ? {'M': $merge($map($keys($c), function($k) { {$k: {'N': $string($lookup($c, $k))}} }))} : 'remove' };
  $setOf := function($attrs) { $filter($keys($attrs), function($k) { $lookup($attrs, $k) != 'remove' }) };
  $rmOf := function($attrs) { $filter($keys($attrs), function($k) { $lookup($attrs, $k) = 'remove' }) };
  $names := function($attrs) { $merge($map($keys($attrs), function($k) { {'#' & $k: $k} })) };
  $values := function($attrs) { $merge($map($setOf($attrs), function($k) { {':' & $k: $lookup($attrs, $k)} })) };
  $update := function($attrs) {(
    $rm := $rmOf($attrs);
    'SET ' & $join($map($setOf($attrs), function($k) { '#' & $k & ' = :' & $k }), ', ') &
      ($count($rm) > 0 ? ' REMOVE ' & $join($map($rm, function($k) { '#' & $k }), ', ') : '')
  )};
  $item := function($attrs) { $merge($map($setOf($attrs), function($k) { {$k: $lookup($attrs, $k)} })) };
  $expires := function($at, $days) { {'N': $string($floor($toMillis($at) / 1000) + $days * 86400)} };`
)

func program(body string) string {
	return "{% (\n  " + jsonataCommon + "\n  " + strings.TrimSpace(body) + "\n) %}"
}

// object is the attributes an object's items share.
func objectAttrs(mode, at string) string {
	return fmt.Sprintf(`{
    '%s': {'S': $key}, '%s': {'S': $o.board}, '%s': {'S': $o.status}, '%s': {'S': '%s'},
    '%s': $str($ev.etag), '%s': $str($lookup($ev, 'version-id')), '%s': {'S': $seq},
    '%s': $num($o.exitCode), '%s': $str($o.cause), '%s': {'S': %s},
    '%s': {'S': $exec}, '%s': $str($o.taskArn)
  }`,
		contract.LedgerKey, contract.LedgerBoard, contract.LedgerStatus, contract.LedgerMode, mode,
		contract.LedgerETag, contract.LedgerVersionID, contract.LedgerSequencer,
		contract.LedgerExitCode, contract.LedgerCause, contract.LedgerAt, at,
		contract.LedgerExecution, contract.LedgerTaskArn)
}

// objectCurrent: pk obj#KEY, sk board#B, in byBoard (gpk board#B, gsk
// obj#KEY); written only if no outcome of a later event (sequencer) is.
func objectCurrent(table, mode string) string {
	return program(fmt.Sprintf(`$attrs := $merge([%s, {
    '%s': {'S': '%s'}, '%s': {'S': '%s' & $o.board}, '%s': {'S': '%s' & $key}
  }]);
  {
    'TableName': '%s',
    'Key': {'%s': {'S': '%s' & $key}, '%s': {'S': '%s' & $o.board}},
    'UpdateExpression': $update($attrs),
    'ConditionExpression': 'attribute_not_exists(#%s) OR #%s <= :%s',
    'ExpressionAttributeNames': $names($attrs),
    'ExpressionAttributeValues': $values($attrs)
  }`,
		objectAttrs(mode, "$states.context.State.EnteredTime"),
		contract.LedgerKind, contract.KindObject, contract.LedgerGPK, contract.PKBoardPrefix, contract.LedgerGSK, contract.PKObjectPrefix,
		table, contract.LedgerPK, contract.PKObjectPrefix, contract.LedgerSK, contract.SKBoardPrefix,
		contract.LedgerSequencer, contract.LedgerSequencer, contract.LedgerSequencer))
}

// objectHistory: pk obj#KEY, sk hist#AT#B#EXECUTION, in byTime (tpk
// day#YYYY-MM-DD, tsk AT#B#KEY), expiring.
func objectHistory(table, mode string, days int) string {
	return program(fmt.Sprintf(`$at := $states.input.at;
  $o := $states.input.outcome;
  $attrs := $merge([%s, {
    '%s': {'S': '%s' & $key}, '%s': {'S': '%s' & $at & '#' & $o.board & '#' & $execName},
    '%s': {'S': '%s'}, '%s': {'S': '%s' & $substring($at, 0, 10)}, '%s': {'S': $at & '#' & $o.board & '#' & $key},
    '%s': $expires($at, %d)
  }]);
  {'TableName': '%s', 'Item': $item($attrs)}`,
		objectAttrs(mode, "$at"),
		contract.LedgerPK, contract.PKObjectPrefix, contract.LedgerSK, contract.SKHistoryPrefix,
		contract.LedgerKind, contract.KindHistory, contract.LedgerTPK, contract.PKDayPrefix, contract.LedgerTSK,
		contract.LedgerExpiresAt, days, table))
}

// syncAttrs are what a board's sync items share; lastOkStart only when
// the sync ended synced (absent: the item keeps the one it has).
func syncAttrs(at string) string {
	return fmt.Sprintf(`{
    '%s': {'S': '%s'}, '%s': {'S': $o.board}, '%s': {'S': $o.status}, '%s': $str($o.cause),
    '%s': {'S': $states.context.Execution.StartTime}, '%s': {'S': %s},
    '%s': $num($o.exitCode), '%s': {'S': $exec}, '%s': $str($o.taskArn), '%s': $counts($o.sync),
    '%s': $o.status = '%s' ? {'S': $states.context.Execution.StartTime}
  }`,
		contract.LedgerKind, contract.KindSync, contract.LedgerBoard, contract.LedgerStatus, contract.LedgerCause,
		contract.LedgerStart, contract.LedgerEnd, at,
		contract.LedgerExitCode, contract.LedgerExecution, contract.LedgerTaskArn, contract.LedgerCounts,
		contract.LedgerLastOKStart, contract.OutcomeSynced)
}

// syncCurrent: pk board#B, sk sync; only if no later sync is recorded.
func syncCurrent(table string) string {
	return program(fmt.Sprintf(`$attrs := %s;
  {
    'TableName': '%s',
    'Key': {'%s': {'S': '%s' & $o.board}, '%s': {'S': '%s'}},
    'UpdateExpression': $update($attrs),
    'ConditionExpression': 'attribute_not_exists(#%s) OR #%s <= :%s',
    'ExpressionAttributeNames': $names($attrs),
    'ExpressionAttributeValues': $values($attrs)
  }`,
		syncAttrs("$states.context.State.EnteredTime"),
		table, contract.LedgerPK, contract.PKBoardPrefix, contract.LedgerSK, contract.SKSync,
		contract.LedgerStart, contract.LedgerStart, contract.LedgerStart))
}

// syncHistory: pk board#B, sk synchist#START#EXECUTION, expiring.
func syncHistory(table string, days int) string {
	return program(fmt.Sprintf(`$at := $states.input.at;
  $o := $states.input.outcome;
  $attrs := $merge([%s, {
    '%s': {'S': '%s' & $o.board}, '%s': {'S': '%s' & $states.context.Execution.StartTime & '#' & $execName},
    '%s': $expires($at, %d)
  }]);
  {'TableName': '%s', 'Item': $item($attrs)}`,
		syncAttrs("$at"),
		contract.LedgerPK, contract.PKBoardPrefix, contract.LedgerSK, contract.SKSyncHistPrefix,
		contract.LedgerExpiresAt, days, table))
}
