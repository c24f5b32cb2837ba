# Reference values of metrics/audit_ref_test.go (TestWelchCompareMpmath,
# TestPairedCompareMpmath, TestMeanStdMpmath), computed independently of
# gonum with mpmath 1.3 at 50 digits: means and sample variances of the
# float64 inputs exactly, the t distribution's two-sided tail as the
# regularised incomplete beta, its quantile by root finding.
# Run: python3 metrics/testdata/make_audit_refs.py
import mpmath as mp, json
mp.mp.dps = 50
def mean(x): return mp.fsum(x)/len(x)
def var(x):
    m = mean(x); return mp.fsum([(v-m)**2 for v in x])/(len(x)-1)
def tsf2(t, df):  # two-sided p
    t = abs(t); return mp.betainc(df/2, mp.mpf(1)/2, 0, df/(df+t*t), regularized=True)
def tq(p, df):  # quantile of t at p>0.5
    f = lambda x: 1 - tsf2(x, df)/2 - p
    return mp.findroot(f, 2)
def welch(a, b):
    a=[mp.mpf(v) for v in a]; b=[mp.mpf(v) for v in b]
    va, vb = var(a)/len(a), var(b)/len(b)
    d = mean(a)-mean(b); se = mp.sqrt(va+vb)
    df = (va+vb)**2/(va**2/(len(a)-1)+vb**2/(len(b)-1))
    t = d/se; p = tsf2(t, df); q = tq(mp.mpf('0.975'), df)
    return dict(diff=float(d), se=float(se), df=float(df), t=float(t), p=float(p), low=float(d-q*se), high=float(d+q*se),
                ma=float(mean(a)), sa=float(mp.sqrt(var(a))), mb=float(mean(b)), sb=float(mp.sqrt(var(b))))
def paired(a, b):
    d=[mp.mpf(x)-mp.mpf(y) for x,y in zip(a,b)]
    n=len(d); m=mean(d); se=mp.sqrt(var(d)/n); t=m/se; df=n-1
    p=tsf2(t,df); q=tq(mp.mpf('0.975'),df)
    return dict(diff=float(m), se=float(se), df=df, t=float(t), p=float(p), low=float(m-q*se), high=float(m+q*se))
def holm(ps):
    idx=sorted(range(len(ps)), key=lambda i: ps[i]); m=len(ps); out=[0]*m; run=0
    for j,i in enumerate(idx):
        run=max(run,min(1,(m-j)*ps[i])); out[i]=run
    return out
cases = {
 'welch_small': ([0.81,0.85,0.79],[0.70,0.74,0.77,0.72]),
 'welch_n2': ([1.0,2.0],[3.0,5.0]),
 'welch_unequal': ([10.1,9.8,10.4,10.0,9.9,10.3],[12.0,8.0]),
 'welch_big': ([1e8+0.1,1e8+0.3,1e8+0.2],[1e8+0.5,1e8+0.45,1e8+0.62]),
 'welch_onesideconst': ([0.5,0.5,0.5],[0.4,0.45,0.47]),
 # report's TestCompareHolmFamilyReference (its other rows: welch_small, paired_small)
 'report_scaled': ([0.75,0.79,0.82],[0.70,0.74,0.77,0.72]),
 'report_general': ([0.5,0.5,0.5],[0.70,0.74,0.77,0.72]),
}
pcases = {
 'paired_small': ([0.81,0.85,0.79,0.88],[0.70,0.74,0.77,0.72]),
 'paired_n2': ([1.0,2.5],[0.5,1.0]),
 'paired_big': ([1e8+0.1,1e8+0.3,1e8+0.2],[1e8+0.05,1e8+0.31,1e8+0.1]),
}
out={}
for k,(a,b) in cases.items(): out[k]=welch(a,b)
for k,(a,b) in pcases.items(): out[k]=paired(a,b)
print(json.dumps(out, indent=1))
print(holm([0.01,0.04,0.03,0.005]))
print(holm([0.04, 0.04, 0.3]))
