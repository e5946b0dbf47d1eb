export default { navigationBarTitleText: 'wxa-auth' }
