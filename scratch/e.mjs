import { Type } from 'typebox'
import { Compile } from 'typebox/compile'
const wide = Type.Object(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, Type.String()])))
console.log(Compile(wide).Errors(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, i]))).length)
