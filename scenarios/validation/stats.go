package validation

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"
)

// GroupStats summarizes the rows of one group (or of all, Group "all").
type GroupStats struct {
	Group string
	Rows  int // every row, simulated or not
	// Compared counts the rows with a prediction that are not read back by
	// construction: the rows MAE and Worst are taken over.
	Compared   int
	MAE        float64 // mean |error_pct| over Compared rows
	Worst      Row     // the compared row of largest |error_pct|
	Unmodelled int     // rows whose status is "unmodelled: ..."
	Refused    int     // rows refused by the scenario checks or failed in simulation
}

func (g *GroupStats) add(r Row) {
	g.Rows++
	switch {
	case strings.HasPrefix(r.Status, "unmodelled"):
		g.Unmodelled++
	case r.Status != "":
		g.Refused++
	case r.ByConstruction:
	default:
		g.Compared++
		g.MAE += math.Abs(r.ErrorPct)
		if g.Compared == 1 || math.Abs(r.ErrorPct) > math.Abs(g.Worst.ErrorPct) {
			g.Worst = r
		}
	}
}

func (g *GroupStats) finish() {
	if g.Compared > 0 {
		g.MAE /= float64(g.Compared)
	}
}

// Groups returns the statistics of each group, in the order the groups
// first appear in rows, and of all rows together.
func Groups(rows []Row) (groups []GroupStats, all GroupStats) {
	idx := map[string]int{}
	all.Group = "all"
	for _, r := range rows {
		i, ok := idx[r.Group]
		if !ok {
			i = len(groups)
			idx[r.Group] = i
			groups = append(groups, GroupStats{Group: r.Group})
		}
		groups[i].add(r)
		all.add(r)
	}
	for i := range groups {
		groups[i].finish()
	}
	all.finish()
	return groups, all
}

// RankCorrelation is the Spearman rank correlation of predicted against
// published figures over the simulated rows of one model in one group.
type RankCorrelation struct {
	Group, Model string
	N            int     // simulated rows
	Rows         int     // every row of the model
	Rho          float64 // NaN with fewer than two rows
}

// RankCorrelations returns the rank correlation of every (group, model)
// of the rows that name a model (the vTrain rows), sorted by group and
// model.
func RankCorrelations(rows []Row) []RankCorrelation {
	type key struct{ group, model string }
	pub := map[key][]float64{}
	pred := map[key][]float64{}
	total := map[key]int{}
	for _, r := range rows {
		if r.Model == "" {
			continue
		}
		k := key{r.Group, r.Model}
		total[k]++
		if r.Modelled() {
			pub[k] = append(pub[k], r.Published)
			pred[k] = append(pred[k], r.Predicted)
		}
	}
	var out []RankCorrelation
	for k, n := range total {
		out = append(out, RankCorrelation{Group: k.group, Model: k.model, N: len(pub[k]), Rows: n, Rho: Spearman(pred[k], pub[k])})
	}
	slices.SortFunc(out, func(a, b RankCorrelation) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Model, b.Model))
	})
	return out
}

// Spearman is the rank correlation of x and y: the Pearson correlation of
// their ranks, tied values sharing the average of the ranks they span.
// It is NaN for fewer than two pairs or when either is constant.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) {
		panic("validation: Spearman of slices of different lengths")
	}
	if len(x) < 2 {
		return math.NaN()
	}
	return stat.Correlation(ranks(x), ranks(y), nil)
}

// ranks returns the 1-based ranks of x, ties averaged.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}
