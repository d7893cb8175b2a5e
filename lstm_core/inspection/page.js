const D = JSON.parse(document.getElementById('data').textContent);
function decode(s){const b=atob(s);const a=new Float32Array(b.length);
 for(let k=0;k<b.length;k++)a[k]=b.charCodeAt(k)/255;return a;}
function series(layer,field,unit){const e=D.units[layer+'/'+unit];if(!e||!e[field])return null;
 const [lo,hi,s]=e[field];const a=decode(s);for(let k=0;k<a.length;k++)a[k]=lo+a[k]*(hi-lo);return a;}
function div(v){v=Math.max(-1,Math.min(1,v));const f=Math.round(255*(1-Math.abs(v)));
 return v>=0?`rgb(255,${f},${f})`:`rgb(${f},${f},255)`;}
function grey(v){const l=Math.round(255*(1-Math.max(0,Math.min(1,v))));return `rgb(${l},${l},${l})`;}
let current=null;
function colour(layer,state,unit){
 const s=series(layer,state,unit); if(!s){document.getElementById('info').textContent=
  'unit '+unit+' of layer '+layer+' is not in this page (too long an input: only ranked units kept)';return;}
 const scale=Math.max(...s.map(Math.abs))||1;
 const g=['input_gate','forget_gate','output_gate','candidate'].map(f=>series(layer,f,unit));
 const ks=document.querySelectorAll('#text .k');
 ks.forEach((k,t)=>{k.firstChild.style.background=div(s[t]/scale);const st=k.querySelectorAll('i');
  if(g[0]){st[0].style.background=grey(g[0][t]);st[1].style.background=grey(g[1][t]);
  st[2].style.background=grey(g[2][t]);st[3].style.background=div(g[3][t]);}});
 current={layer,state,unit,s,g};
 document.getElementById('which').textContent=`layer ${layer}, ${state} state, unit ${unit}`;
 document.getElementById('scale').textContent=scale.toFixed(2);
 document.querySelectorAll('tr.r').forEach(r=>r.classList.toggle('sel',
  r.dataset.layer==layer&&r.dataset.state==state&&r.dataset.unit==unit));
 document.getElementById('layer').value=layer;document.getElementById('state').value=state;
 document.getElementById('unit').value=unit;
}
document.querySelectorAll('tr.r').forEach(r=>r.addEventListener('click',()=>
 colour(+r.dataset.layer,r.dataset.state,+r.dataset.unit)));
document.getElementById('show').addEventListener('click',()=>colour(
 +document.getElementById('layer').value,document.getElementById('state').value,
 +document.getElementById('unit').value));
document.querySelectorAll('#text .k').forEach((k,t)=>k.addEventListener('mouseover',()=>{
 if(!current)return;const c=current,f=x=>x?x[t].toFixed(2):'?';
 document.getElementById('info').textContent=`step ${t} ${JSON.stringify(D.tokens[t])}: `+
  `${c.state} ${c.s[t].toFixed(3)}  i ${f(c.g[0])}  f ${f(c.g[1])}  o ${f(c.g[2])}  g ${f(c.g[3])}`;}));
colour(D.selected.layer,D.selected.state,D.selected.unit);
