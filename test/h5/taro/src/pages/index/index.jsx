import { View } from '@tarojs/components'
import { useEffect, useState } from 'react'
// api.ts is the docs' Taro H5 block, written here by test/h5/run.mjs.
import { api } from '../../api'
import { flow } from '../../flow'

export default function Index() {
  const [out, setOut] = useState('running')
  useEffect(() => {
    flow(api).then(
      (result) => setOut(JSON.stringify(result)),
      (error) =>
        setOut(
          JSON.stringify({
            error: `${error?.code ?? ''} ${error?.stack ?? error?.message ?? error}`,
          }),
        ),
    )
  }, [])
  return <View id="out">{out}</View>
}
