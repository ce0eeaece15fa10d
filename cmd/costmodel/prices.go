package main

// Prices, named and dated. Each was read on the page cited, as of
// PricesAsOf; a price that changed is one constant to edit, then `make
// cost`.
const (
	PricesAsOf = "2026-12-07"

	// TransitionPrice: Step Functions Standard workflows, $0.025 per 1,000
	// state transitions (US East, Europe (Ireland), and most Regions;
	// 4,000 free a month), https://aws.amazon.com/step-functions/pricing/.
	TransitionPrice = 0.025 / 1000

	// ECSAnywhereHourly: ECS Anywhere, $0.01025 per registered on-premises
	// instance-hour, https://aws.amazon.com/ecs/pricing/ (ECS Anywhere).
	ECSAnywhereHourly = 0.01025

	// SSMStandardTierNodes: Systems Manager registers up to 1,000 hybrid
	// nodes per account and Region in its standard tier at no charge; more
	// needs the advanced-instances tier, charged per node-hour
	// (https://docs.aws.amazon.com/systems-manager/latest/userguide/fleet-manager-configure-instance-tiers.html).
	SSMStandardTierNodes = 1000

	// SSMAdvancedHourly: the advanced-instances tier per on-premises node-hour,
	// https://aws.amazon.com/systems-manager/pricing/ (the figure AWS has
	// published for years; not re-read from the pricing page for this
	// table: check it before relying on it).
	SSMAdvancedHourly = 0.00695

	// HoursPerMonth: 730 (8,760 / 12).
	HoursPerMonth = 730.0
)
