// Package power models the electrical power of network devices and finds
// where it could be saved.
//
// A device's PSU input power is modelled per device model (chassis part
// number) as
//
//	P = base + Σ admin-up ports port[speed] + Σ ports dynamic[speed]·util
//	  + Σ present transceivers optic[speed]
//
// where util = (in+out)/(2·speed) of a port (Mahadevan et al. 2009,
// Chabarek et al. 2008, Vishwanath et al. 2014: chassis base, per-port power
// by configured speed, a small traffic-dependent part). The coefficients are
// fitted online by exponentially weighted ridge regression towards
// configurable priors (Model): from measured PSU input power where devices
// report it (input voltage × input current, or the collector's derived
// input-power), from the priors alone where they do not. A coefficient that
// the data do not excite stays at its prior.
//
// Estimator turns a device's samples into windows: measured and modelled
// watts, energy, per-port attribution, savings opportunities (ports admin
// up but without link, transceivers in unused ports, bundle members whose
// traffic fits on the other members) and a robust z-score of the
// measured-minus-modelled residual, which flags PSU degradation and other
// departures from the model.
//
// The package does no I/O. Nothing in it is safe for concurrent use.
package power
