import time, numpy as np, pandas as pd
from scipy import stats
rng=np.random.default_rng(1); n=1_000_000; d={}
for j in range(10): d[f"f{j}"]=rng.exponential(j+1,n) if j%3==0 else rng.normal(j,j+1,n)
for j in range(4): d[f"i{j}"]=rng.integers(0,100*(j+1),n)
for j,k in enumerate([2,5,12,40,100,500]): d[f"c{j}"]=pd.Categorical(np.minimum(rng.integers(0,k,n),rng.integers(0,k,n)).astype(str))
df=pd.DataFrame(d); df.loc[::20,"f0"]=np.nan; df.loc[::20,"f1"]=np.nan
t=time.time()
df.describe(include="all"); df.quantile([.01,.05,.25,.5,.75,.95,.99],numeric_only=True); df.skew(numeric_only=True)
for c in df.columns: df[c].nunique(); df[c].value_counts()
df.duplicated().sum(); num=df.select_dtypes("number"); num.corr(); num.corr("spearman")
print("pandas profile-equivalent: %.2fs"%(time.time()-t))
cur=df.copy(); t=time.time()
for c in num.columns:
    x=num[c].dropna().to_numpy(); y=cur[c].dropna().to_numpy(); stats.wasserstein_distance(x,y)/np.std(x)
for c in df.columns[14:]:
    a=df[c].value_counts(normalize=True); b=cur[c].value_counts(normalize=True); k=a.index.union(b.index)
    from scipy.spatial.distance import jensenshannon; jensenshannon(a.reindex(k,fill_value=0),b.reindex(k,fill_value=0))
print("scipy drift-equivalent (raw reference): %.2fs"%(time.time()-t))
