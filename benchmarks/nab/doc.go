// Package nab holds the NAB onset experiments (k-NN conformal, range break,
// echo rule, weekly source) run over the NAB subset with the loader and
// scorer of package backtest/nab. It is not imported by the binary.
package nab
