// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
export {};
